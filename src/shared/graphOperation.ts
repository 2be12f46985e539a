/**
 * The low-cardinality name of a Graph request, for span names and metric attributes: method and
 * path template, never the URL as sent. Ids, addresses, domain names and query strings ($filter
 * holds the guest's address) are all replaced or dropped, so nothing personal reaches telemetry.
 *
 *   GET  https://graph.microsoft.com/v1.0/users/6f1c…?$select=id   →  GET /users/{id}
 *   GET  …/v1.0/users?$filter=mail eq 'jane@fabrikam.com'           →  GET /users
 *   GET  …/tenantRelationships/findTenantInformationByDomainName(domainName='fabrikam.com')
 *                                         →  GET /tenantRelationships/findTenantInformationByDomainName({domainName})
 */

/** A path segment kept as it is: an OData identifier ("users", "$ref", "$batch") or a type cast ("microsoft.graph.group"). */
const LITERAL_SEGMENT = /^\$?[A-Za-z][A-Za-z0-9]{0,79}$/;
const TYPE_CAST_SEGMENT = /^(?:microsoft\.)?graph\.[A-Za-z][A-Za-z0-9]{0,79}$/;
/** A function call segment: "name(args)". The arguments become "{parameter}" placeholders. */
const FUNCTION_SEGMENT = /^([A-Za-z][A-Za-z0-9]{0,79})\((.*)\)$/;
const PARAMETER_NAME = /^\s*([A-Za-z][A-Za-z0-9]{0,39})\s*=/;
const VERSION_SEGMENT = /^(?:v1\.0|beta)$/;

function templateOfSegment(raw: string): string {
  let segment: string;
  try {
    segment = decodeURIComponent(raw);
  } catch {
    return '{id}';
  }
  if (LITERAL_SEGMENT.test(segment) || TYPE_CAST_SEGMENT.test(segment)) return segment;
  const call = FUNCTION_SEGMENT.exec(segment);
  if (call) {
    // Only the parameter names survive: "(domainName='fabrikam.com')" → "({domainName})".
    const names = (call[2] ?? '')
      .split(',')
      .map((arg) => PARAMETER_NAME.exec(arg)?.[1])
      .filter((name): name is string => name !== undefined);
    return `${call[1]}(${names.map((n) => `{${n}}`).join(',')})`;
  }
  return '{id}';
}

/**
 * The path template of a Graph URL (absolute, or relative to the version root), without the
 * configured base path and the version segment.
 */
export function graphPathTemplate(url: string, basePath = ''): string {
  let pathname: string;
  try {
    pathname = new URL(url, 'https://graph.invalid/').pathname;
  } catch {
    return '/{unknown}';
  }
  if (basePath && pathname.startsWith(`${basePath}/`)) pathname = pathname.slice(basePath.length);
  const segments = pathname.split('/').filter((s) => s !== '');
  if (segments[0] !== undefined && VERSION_SEGMENT.test(segments[0])) segments.shift();
  return `/${segments.map(templateOfSegment).join('/')}`;
}

/** "GET /users/{id}": the operation name used for Graph spans and the graph.* metrics. */
export function graphOperation(method: string | undefined, url: string, basePath = ''): string {
  const verb = (method ?? 'GET').toUpperCase();
  return `${/^[A-Z]{1,10}$/.test(verb) ? verb : 'OTHER'} ${graphPathTemplate(url, basePath)}`;
}
