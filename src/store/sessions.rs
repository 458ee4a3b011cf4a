//! `public.session_owners`: which user each logged-in session belongs to.
//! The session rows themselves belong to tower-sessions' store.

use sqlx::{PgConnection, PgPool};

/// Records that `session_id` is `user_id`'s on `tenant_id`. A no-op when
/// known, or when the session row is already gone (deleted by a revocation
/// racing this save): the row must not outlive its session.
pub async fn record_owner(
    pool: &PgPool,
    session_id: &str,
    tenant_id: i32,
    user_id: i32,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        r#"INSERT INTO public.session_owners (session_id, tenant_id, user_id)
           SELECT s.id, $2, $3 FROM "tower_sessions"."session" s WHERE s.id = $1
           ON CONFLICT (session_id) DO NOTHING"#,
    )
    .bind(session_id)
    .bind(tenant_id)
    .bind(user_id)
    .execute(pool)
    .await?;
    Ok(())
}

/// Deletes every session of `user_id` on `tenant_id`; returns how many.
pub async fn delete_of_user(
    conn: &mut PgConnection,
    tenant_id: i32,
    user_id: i32,
) -> Result<u64, sqlx::Error> {
    let done = sqlx::query(
        r#"DELETE FROM "tower_sessions"."session" WHERE id IN (
             SELECT session_id FROM public.session_owners WHERE tenant_id = $1 AND user_id = $2)"#,
    )
    .bind(tenant_id)
    .bind(user_id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}
