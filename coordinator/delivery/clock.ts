/** The coordinator's idea of now, injected so tests can set the time freeze windows are judged at. */
export type Clock = () => Date;

export const systemClock: Clock = () => new Date();
