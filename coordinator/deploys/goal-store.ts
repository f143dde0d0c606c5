import type { GoalWriter } from '../../goalstate/index.ts';

/** What deploys need of the goal state: the coordinator's GoalWriter, or a stand-in in tests. */
export type GoalStore = Pick<GoalWriter, 'get' | 'put' | 'history'>;
