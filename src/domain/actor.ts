/**
 * Who is acting, always re-derived from the incoming activity (never from card data).
 * userId is the Entra object id (`from.aadObjectId`).
 */
export interface Actor {
  userId: string;
  name: string;
  tenantId: string;
}

/**
 * Whom the audit log names for a click from someone the channel did not identify (no
 * `from.aadObjectId`, or no tenant): no one. Neither the channel account id nor the display name
 * the activity carries is recorded: nothing vouches for them, and they would be personal data.
 */
export const UNIDENTIFIED_ACTOR = { id: 'unidentified', name: 'Unidentified' } as const;
