-- Embedding a tenant's chat elsewhere (OBS overlays, the broadcaster's site):
-- whether the read-only chat may be read without logging in, and the
-- origins allowed to frame it.
ALTER TABLE public.tenants
    ADD COLUMN IF NOT EXISTS anonymous_read boolean NOT NULL DEFAULT false,
    ADD COLUMN IF NOT EXISTS embed_origins text[] NOT NULL DEFAULT '{}';
