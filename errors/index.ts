export { FleetcastError, isFleetcastError, errorCodes, type ErrorCode } from './fleetcast-error.ts';
