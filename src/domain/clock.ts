/** The one time source: injectable, so tests control expiry and timing without sleeping. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };
