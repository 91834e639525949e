"""v4 routes that are not plain CRUD over one v5 resource: account and auth routes, the dashboard,
document streaming, task timers, and the routes v5 cannot serve (answered with a clear error)."""
