// The delivery loop (issue 23): freeze windows, pre-deploy checks, continuous deploy.
export { systemClock, type Clock } from './clock.ts';
export { FreezeBook, frozenError, type FreezeRequest, type ActiveFreeze } from './freeze-book.ts';
export { activeUntil, describeFreeze, parseWeekly, type FreezeWindow } from './freeze-window.ts';
export { DeliverySettings, type Delivery } from './delivery-settings.ts';
export { DeliveryGuard } from './deploy-guards.ts';
export { PredeployCheck, checkOutputLimit, type CheckOutcome } from './predeploy-check.ts';
export { ContinuousDeployer, continuousDeployActor } from './continuous-deployer.ts';
export { selectCheckRuns, type CheckRun } from './delivery-sql.ts';
