/**
 * Who is acting, always re-derived from the incoming activity (never from card data).
 * userId is the Entra object id (`from.aadObjectId`).
 */
export interface Actor {
  userId: string;
  name: string;
  tenantId: string;
}
