import { generate } from 'selfsigned';

const DAY = 86_400_000;

/** A self-signed certificate (PEM) valid from `from` to `to`, made at test time. */
export async function certificate(from = new Date(Date.now() - DAY), to = new Date(Date.now() + 365 * DAY)): Promise<string> {
  const made = await generate([{ name: 'commonName', value: 'idp.example.test' }], { notBeforeDate: from, notAfterDate: to, keySize: 2048 });
  return made.cert;
}

/** IdP metadata as Okta or Entra give it: an EntityDescriptor with an IDPSSODescriptor, its signing key and SSO endpoints. */
export function idpMetadata(options: { entityId: string; ssoUrl: string; certificate?: string; binding?: 'HTTP-Redirect' | 'HTTP-POST' }): string {
  const body = options.certificate?.replace(/-----[^-]+-----|\s/g, '');
  const key = body
    ? `<md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>${body}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>`
    : '';
  return `<?xml version="1.0" encoding="UTF-8"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="${options.entityId}">
  <md:IDPSSODescriptor WantAuthnRequestsSigned="false" protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    ${key}
    <md:NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress</md:NameIDFormat>
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:${options.binding ?? 'HTTP-Redirect'}" Location="${options.ssoUrl}"/>
  </md:IDPSSODescriptor>
</md:EntityDescriptor>`;
}
