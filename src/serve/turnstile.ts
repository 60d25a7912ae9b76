/**
 * Lets one waiter through per event-loop turn. Large invocations that compute on the HTTP thread pass
 * it first: between two of them the loop polls the sockets, so /ping and small requests are answered
 * after at most one large computation instead of after every queued one. Costs one `setImmediate` per
 * large request; nothing moves to another thread.
 */
export function createTurnstile(): () => Promise<void> {
  const waiting: Array<() => void> = [];
  let scheduled = false;
  const admitOne = (): void => {
    // Resolving runs the waiter's continuation as a microtask, still in this turn; the next waiter's
    // immediate, queued from the check phase, runs only after the next poll.
    waiting.shift()?.();
    if (waiting.length > 0) setImmediate(admitOne);
    else scheduled = false;
  };
  return () =>
    new Promise<void>((resolve) => {
      waiting.push(resolve);
      if (!scheduled) {
        scheduled = true;
        setImmediate(admitOne);
      }
    });
}
