/** Proof that a worker holds a job: every write it makes to the job carries the token. */
export interface Claim {
  /** The job's row id. */
  id: number;
  workerId: string;
  token: string;
}

export interface Claimed<Job> {
  job: Job;
  claim: Claim;
}
