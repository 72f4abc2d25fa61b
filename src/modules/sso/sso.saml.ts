import { X509Certificate } from 'node:crypto';
import { IdentityProvider } from 'samlify';

export const SAML_BINDINGS = {
  redirect: 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect',
  post: 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST',
} as const;

export interface SamlIdp {
  entityId: string;
  ssoUrl: string;
  ssoBinding: string;
  /** PEM. */
  certificate: string;
  certificateExpiresAt: Date;
}

const MAX_METADATA = 200_000;

/**
 * Reads an IdP's SAML 2.0 metadata with samlify (its xmldom parser never fetches or expands an
 * external entity; a DOCTYPE is refused before parsing all the same, as no metadata needs one):
 * its entity id, a single sign-on URL (HTTP-Redirect preferred, else HTTP-POST) and its signing
 * certificate, parsed with node's X509Certificate. Throws an Error naming what is wrong.
 */
export function readIdpMetadata(xml: string, now = new Date()): SamlIdp {
  const text = xml.trim();
  if (!text) throw new Error('the metadata is empty');
  if (text.length > MAX_METADATA) throw new Error(`the metadata is longer than ${MAX_METADATA} characters`);
  if (/<!DOCTYPE/i.test(text)) throw new Error('the metadata has a DOCTYPE, which SAML metadata never needs');
  let meta: ReturnType<typeof IdentityProvider>['entityMeta'];
  try {
    meta = IdentityProvider({ metadata: text }).entityMeta;
  } catch {
    throw new Error('the metadata is not well-formed XML');
  }
  const entityId = meta.getEntityID();
  if (typeof entityId !== 'string' || !entityId.trim()) throw new Error('the metadata has no EntityDescriptor with an entityID');
  let ssoUrl: unknown;
  let ssoBinding: string | undefined;
  for (const binding of ['redirect', 'post'] as const) {
    const location = meta.getSingleSignOnService(binding);
    if (typeof location === 'string' && location) {
      ssoUrl = location;
      ssoBinding = SAML_BINDINGS[binding];
      break;
    }
  }
  if (typeof ssoUrl !== 'string' || !ssoBinding) throw new Error('the metadata has no SingleSignOnService with the HTTP-Redirect or HTTP-POST binding');
  try {
    if (!['http:', 'https:'].includes(new URL(ssoUrl).protocol)) throw new Error();
  } catch {
    throw new Error('the SingleSignOnService Location is not an http(s) URL');
  }
  const found = meta.getX509Certificate('signing') as unknown;
  const encoded = [found].flat().filter((c): c is string => typeof c === 'string' && c.trim() !== '');
  if (!encoded.length) throw new Error('the metadata has no signing certificate (KeyDescriptor use="signing" with an X509Certificate)');
  const certificates = encoded.map((base64) => {
    try {
      return new X509Certificate(Buffer.from(base64.replace(/\s+/g, ''), 'base64'));
    } catch {
      throw new Error('the signing certificate is not a valid X.509 certificate');
    }
  });
  // The one that stays valid longest: an IdP publishes the next certificate beside the current one during a rollover.
  const best = certificates.sort((a, b) => Date.parse(b.validTo) - Date.parse(a.validTo))[0];
  const expiresAt = new Date(best.validTo);
  if (expiresAt <= now) throw new Error(`the signing certificate expired on ${expiresAt.toISOString()}`);
  if (new Date(best.validFrom) > now) throw new Error(`the signing certificate is not valid before ${new Date(best.validFrom).toISOString()}`);
  return { entityId: entityId.trim(), ssoUrl, ssoBinding, certificate: best.toString(), certificateExpiresAt: expiresAt };
}
