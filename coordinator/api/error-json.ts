export { errorJson, toErrorJson, type ErrorJson } from '../../api-contract/index.ts';
