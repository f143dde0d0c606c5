import type { MirrorInspection } from '../../goalstate/index.ts';

/** A region's goal mirror as the coordinator last checked it (coordinator/fleet/mirror-check.ts), with the repairs it made. */
export interface MirrorState extends MirrorInspection {
  checkedAt: string;
  /** Repairs made by this coordinator since it started. */
  repairs: number;
  lastRepair: { at: string; problem: string; ok: boolean } | null;
}
