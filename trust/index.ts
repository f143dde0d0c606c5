// Signatures and keys the fleet trusts: what the coordinator signs, what agents and seeders check.
export { canonicalJson } from './canonical-json.ts';
export { createSigningKeyFiles, ensureSigningKeyFiles, generateSigningKey, keyIdOf, parseVerifyingKey, publicKeyText, readSigningKey, signingKeyFromPem, type SigningKey, type VerifyingKey } from './ed25519-keys.ts';
export { VerifyingKeyring } from './verifying-keyring.ts';
export { signDocument, verifyDocument, type DocumentSignature, type Signed, type SignatureProblem, type VerifyResult } from './signed-document.ts';
export { issueP2PIdentity, verifyP2PIdentity, p2pCertificate, p2pIdentitySchema, type P2PIdentity, type P2PCertificate, type P2PIdentityCheck } from './p2p-identity.ts';
export { SigningKeyFile } from './signing-key-file.ts';
export { NatsIdentityRegistry, natsCredsPublicKey, natsRoles, privateInboxPrefix, readNatsCreds, type IssueRequest, type NatsIdentity, type NatsRole } from './nats-identities.ts';
export { ServerCertificate, type CertificatePair } from './server-certificate.ts';
