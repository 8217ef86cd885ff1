/** Route label of requests no route matched: one series for all 404 noise instead of one per scanned path. */
export const UNMATCHED_ROUTE = '(unmatched)';

interface RoutedRequest {
  baseUrl?: string;
  route?: { path?: unknown; methods?: Record<string, boolean> };
}

/**
 * The route pattern express matched (`/v1/peers/:id`), never the raw URL, so metric labels and span names stay
 * bounded; undefined when no controller route matched. Nest mounts middleware (ours, nestjs-pino's) as
 * catch-all express routes for every method, so after a 404 `req.route` is a middleware's, not a controller's.
 */
export function matchedRoute(req: RoutedRequest, status: number): string | undefined {
  const route = req.route;
  if (typeof route?.path !== 'string') return undefined;
  if (status === 404 && Object.keys(route.methods ?? {}).length > 1) return undefined;
  return `${req.baseUrl ?? ''}${route.path}`;
}
