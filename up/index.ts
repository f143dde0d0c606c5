// `fleetcast up`: a whole installation on one machine, each role a supervised process.
export { runUp, type UpOptions, type UpHandle } from './run-up.ts';
export { RoleProcess, type RoleSpec, type RoleState } from './role-process.ts';
export { StatusBoard } from './status-board.ts';
export { upFilePath, type UpFile } from './up-file.ts';
export { checkPrerequisites } from './prerequisites.ts';
