export { scopes, grants, type Scope } from '../../../api-contract/index.ts';
