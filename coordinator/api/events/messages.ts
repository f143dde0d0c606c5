export { clientMessage, serverMessage, type ClientMessage, type ServerMessage } from '../../../api-contract/index.ts';
