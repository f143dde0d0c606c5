// Type declarations for the Holepunch modules fleetcast uses; only the parts it calls.
declare module 'hypercore-crypto' {
  export function keyPair(seed?: Uint8Array): { publicKey: Uint8Array; secretKey: Uint8Array };
  export function discoveryKey(publicKey: Uint8Array): Uint8Array;
  const api: { keyPair: typeof keyPair; discoveryKey: typeof discoveryKey };
  export default api;
}
