-- Which user each logged-in session belongs to, so deactivating a user can
-- delete their sessions (the session store keeps its data as an opaque blob).
-- Rows go with their session: deleted, expired and cleaned up, or cycled.
CREATE TABLE IF NOT EXISTS public.session_owners (
    session_id TEXT PRIMARY KEY REFERENCES tower_sessions.session(id) ON DELETE CASCADE,
    tenant_id INTEGER NOT NULL REFERENCES public.tenants(id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL
);

CREATE INDEX IF NOT EXISTS idx_session_owners_user ON public.session_owners(tenant_id, user_id);
