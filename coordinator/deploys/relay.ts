/** A relay (the Slack bot) that asked for `by`: its token, and the person's stable id. Kept in the audit row. */
export interface Relay {
  token: string;
  id: string;
}

/** The audit detail naming the relay that acted for the actor, if any. */
export function viaDetail(via: Relay | undefined): { via?: Relay } {
  return via ? { via: { token: via.token, id: via.id } } : {};
}
