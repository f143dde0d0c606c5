import { useEffect, useState } from 'preact/hooks';
import { live } from './live-feed.ts';

/** Re-renders the component when the live feed changes, at most once per frame. */
export function useLive(): typeof live {
  const [, setTick] = useState(0);
  useEffect(() => {
    let frame = 0;
    const off = live.onChange(() => {
      if (frame === 0) frame = requestAnimationFrame(() => ((frame = 0), setTick((t) => t + 1)));
    });
    return () => {
      off();
      cancelAnimationFrame(frame);
    };
  }, []);
  return live;
}

/** The path after `#`: the dashboard routes in the URL fragment, so every page is one static file. */
export function useHashPath(): string {
  const read = () => decodeURIComponent(location.hash.replace(/^#/, '')) || '/';
  const [path, setPath] = useState(read);
  useEffect(() => {
    const onHash = () => setPath(read());
    addEventListener('hashchange', onHash);
    return () => removeEventListener('hashchange', onHash);
  }, []);
  return path;
}

export interface Loaded<T> {
  data: T | null;
  error: string | null;
  loading: boolean;
}

/** Loads `load()` when a dependency changes (ignoring answers to older requests). */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]): Loaded<T> {
  const [state, setState] = useState<Loaded<T>>({ data: null, error: null, loading: true });
  useEffect(() => {
    let current = true;
    setState((s) => ({ ...s, loading: true }));
    load().then(
      (data) => current && setState({ data, error: null, loading: false }),
      (err: unknown) => current && setState({ data: null, error: (err as Error).message, loading: false }),
    );
    return () => {
      current = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, deps);
  return state;
}
