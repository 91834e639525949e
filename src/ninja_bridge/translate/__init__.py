"""Request and response translation: declarations (spec), compiled plans (plan), named rewrites."""
