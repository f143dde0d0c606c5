import http from 'node:http';
import https from 'node:https';

/**
 * Sends a request whose headers declare `declaredBytes` of body, writes only `send` of it (none
 * by default), and resolves with the answer a server gives from the declared length, before it
 * reads the rest (a size limit). Such a server closes the connection while a client may still be
 * writing, so a cut-off write is expected; the answer must still come, within 5 s of it.
 */
export function declaredSizeAnswer(
  url: string,
  options: { method?: string; headers?: Record<string, string>; declaredBytes: number; send?: Buffer; /** The CA of an https:// server. */ ca?: Buffer },
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const requestOptions = { method: options.method ?? 'POST', headers: { ...options.headers, 'content-length': String(options.declaredBytes) } };
    const request = url.startsWith('https:') ? https.request(url, { ...requestOptions, ca: options.ca }) : http.request(url, requestOptions);
    request.on('response', (response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString()));
      response.on('end', () => {
        resolve({ status: response.statusCode ?? 0, body });
        request.destroy();
      });
      response.on('error', reject);
    });
    request.on('error', (err) => setTimeout(() => reject(new Error(`no answer to a body declared as ${options.declaredBytes} bytes: ${err.message}`)), 5_000).unref());
    if (options.send) request.write(options.send);
    else request.flushHeaders();
  });
}
