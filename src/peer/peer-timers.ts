// The timer functions the session engine uses, injectable so tests can drive
// time and so stop() can prove nothing is left scheduled. Never holds a timer
// itself: whoever schedules one clears it.

export interface PeerTimers {
  setTimeout(callback: () => void, delayMs: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemTimers: PeerTimers = {
  setTimeout: (callback, delayMs) => setTimeout(callback, delayMs),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};
