import type { BlobSource } from './blob-store.ts';

/**
 * Wraps a put's source so the store can tell, when a pipeline fails, whether the caller's
 * bytes failed (rethrown untouched: it is the caller's error) or the store's side did (mapped to
 * a FleetcastError). Both look alike once the pipeline has torn everything down.
 */
export function trackSource(source: BlobSource): { iterable: AsyncIterable<Uint8Array>; failure: () => { error: unknown } | undefined } {
  let failure: { error: unknown } | undefined;
  async function* tracked(): AsyncGenerator<Uint8Array> {
    try {
      for await (const chunk of source as AsyncIterable<Uint8Array>) yield chunk;
    } catch (error) {
      failure = { error };
      throw error;
    }
  }
  return { iterable: tracked(), failure: () => failure };
}
