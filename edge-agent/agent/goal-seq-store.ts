import fs from 'node:fs';
import { z } from 'zod';
import { servicePattern, type GoalSeqStore, type SeqRecord } from '../../goalstate/index.ts';
import type { AgentLayout } from './agent-layout.ts';
import { writeJsonDurably } from './durable-json.ts';

const recordSchema = z.object({ v: z.literal(1), seq: z.number().int().positive(), sig: z.string().min(1), at: z.string() });

/**
 * The highest goal sequence this machine accepted per service, in
 * `<agent dir>/services/<service>/goal-seq.json` (written durably before the goal is acted on):
 * a goal at or below it is refused as replayed (GOAL_REPLAYED), after a restart or a kill -9 too.
 */
export class DiskGoalSeqStore implements GoalSeqStore {
  constructor(private readonly layout: AgentLayout) {}

  /** Read once, when the goal watch starts (a few small files). */
  load(): Map<string, SeqRecord> {
    const records = new Map<string, SeqRecord>();
    let services: string[];
    try {
      services = fs.readdirSync(this.layout.servicesDir).filter((name) => servicePattern.test(name));
    } catch {
      return records;
    }
    for (const service of services) {
      const record = readRecord(this.layout.goalSeqFile(service));
      if (record) records.set(service, { seq: record.seq, sig: record.sig });
    }
    return records;
  }

  async record(service: string, record: SeqRecord): Promise<void> {
    await writeJsonDurably(this.layout.goalSeqFile(service), { v: 1, seq: record.seq, sig: record.sig, at: new Date().toISOString() } satisfies z.infer<typeof recordSchema>);
  }
}

function readRecord(file: string): z.infer<typeof recordSchema> | undefined {
  try {
    const parsed = recordSchema.safeParse(JSON.parse(fs.readFileSync(file, 'utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
