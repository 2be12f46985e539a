/**
 * A throwaway certificate authority and server certificate, made in memory for tests that need
 * real TLS on 127.0.0.1 (keys by Node's crypto, certificates by node-forge). Nothing is written
 * to disk and nothing leaves the machine.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import forge from 'node-forge';

export interface TestTls {
  /** PEM of the CA certificate: pass as `ca` to trust the server. */
  ca: string;
  /** PEM of the server certificate (signed by the CA) and its key. */
  cert: string;
  key: string;
}

function keyPair(): { publicKey: forge.pki.rsa.PublicKey; privateKey: forge.pki.rsa.PrivateKey; privatePem: string } {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
  });
  return {
    publicKey: forge.pki.publicKeyFromPem(publicKey),
    privateKey: forge.pki.privateKeyFromPem(privateKey),
    privatePem: privateKey,
  };
}

function certificate(subject: string, publicKey: forge.pki.rsa.PublicKey): forge.pki.Certificate {
  const cert = forge.pki.createCertificate();
  cert.publicKey = publicKey;
  cert.serialNumber = `01${randomBytes(8).toString('hex')}`;
  cert.validity.notBefore = new Date(Date.now() - 60_000);
  cert.validity.notAfter = new Date(Date.now() + 24 * 60 * 60 * 1000);
  cert.setSubject([{ name: 'commonName', value: subject }]);
  return cert;
}

/** A CA and a server certificate for `hostnames` (subjectAltName DNS entries). */
export function makeTestTls(hostnames: readonly string[]): TestTls {
  const caKeys = keyPair();
  const caCert = certificate('Guest bot test CA', caKeys.publicKey);
  caCert.setIssuer(caCert.subject.attributes);
  caCert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
  ]);
  caCert.sign(caKeys.privateKey, forge.md.sha256.create());

  const serverKeys = keyPair();
  const serverCert = certificate(hostnames[0] ?? 'localhost', serverKeys.publicKey);
  serverCert.setIssuer(caCert.subject.attributes);
  serverCert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    { name: 'subjectAltName', altNames: hostnames.map((value) => ({ type: 2, value })) },
  ]);
  serverCert.sign(caKeys.privateKey, forge.md.sha256.create());

  return { ca: forge.pki.certificateToPem(caCert), cert: forge.pki.certificateToPem(serverCert), key: serverKeys.privatePem };
}
