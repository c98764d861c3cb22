// Server only. Route handlers are public URLs: each one here first asks the
// app's own sign-in whether the caller is an admin. The check below refuses
// everyone until the app plugs its own in (NextAuth's `auth()`, its session
// cookie…) with `setAdminCheck`, so a copied example fails closed.
import { SauveError } from "@sauve/client";

type Check = (request: Request) => Promise<boolean>;
let isAdmin: Check = async () => false;

/** Plug in the app's own "is this request from a signed-in admin?". */
export function setAdminCheck(check: Check): void {
  isAdmin = check;
}

/**
 * Wraps a route handler: 403 unless the caller is an admin; a change sent
 * from another site's page (`Origin`) is refused too. A `SauveError` becomes
 * a JSON answer the page can show: a 422 keeps its field (the form puts the
 * message beside it); anything else from Sauve is the server's problem, 502.
 */
export function adminOnly(handler: (request: Request) => Promise<Response>) {
  return async (request: Request): Promise<Response> => {
    const origin = request.headers.get("Origin");
    if (request.method !== "GET" && origin && new URL(origin).host !== new URL(request.url).host) {
      return Response.json({ message: "cross-site request refused" }, { status: 403 });
    }
    if (!(await isAdmin(request))) return Response.json({ message: "admins only" }, { status: 403 });
    try {
      return await handler(request);
    } catch (e) {
      if (e instanceof SauveError && e.status === 422) {
        return Response.json({ field: e.field, message: e.body?.message ?? e.message }, { status: 422 });
      }
      if (e instanceof SauveError) {
        console.error(e); // 401/403 here: SAUVE_TOKEN is wrong or lacks a scope
        return Response.json({ message: `the backup service answered ${e.status} ${e.code}` }, { status: 502 });
      }
      throw e;
    }
  };
}
