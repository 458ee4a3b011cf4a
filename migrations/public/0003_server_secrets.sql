-- Secrets every node must share, generated once per deployment by the
-- database itself (gen_random_uuid is cryptographically random).
CREATE TABLE IF NOT EXISTS public.server_secrets (
    name TEXT PRIMARY KEY,
    secret TEXT NOT NULL
);

INSERT INTO public.server_secrets (name, secret)
VALUES ('csrf', replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''))
ON CONFLICT (name) DO NOTHING;
