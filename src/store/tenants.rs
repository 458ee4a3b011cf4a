//! `public.tenants` and `public.tenant_domains`.

use sqlx::PgPool;

use super::{is_unique_violation, migrate, StoreError};
use crate::tenant::{SchemaName, Tenant};

#[derive(sqlx::FromRow)]
struct TenantRow {
    id: i32,
    name: String,
    schema_name: String,
}

impl TenantRow {
    fn into_tenant(self) -> Result<Tenant, StoreError> {
        // A row that fails the check was not written by us; refuse to use it.
        let schema = SchemaName::parse(&self.schema_name)
            .map_err(|e| StoreError::Invalid(format!("tenant {}: {e}", self.id)))?;
        Ok(Tenant {
            id: self.id,
            name: self.name,
            schema,
        })
    }
}

/// Lower-cases and checks a domain the way Host headers are matched.
pub fn normalize_domain(domain: &str) -> Result<String, StoreError> {
    let d = domain.trim().trim_end_matches('.').to_ascii_lowercase();
    let ok = !d.is_empty()
        && d.len() <= 253
        && d.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        });
    if ok {
        Ok(d)
    } else {
        Err(StoreError::Invalid(format!("invalid domain {domain:?}")))
    }
}

/// Creates the tenant row, its primary domain and its schema with every tenant
/// migration, all in one transaction.
pub async fn create(
    pool: &PgPool,
    schema: &SchemaName,
    name: &str,
    domain: &str,
) -> Result<Tenant, StoreError> {
    let domain = normalize_domain(domain)?;
    let mut tx = pool.begin().await?;
    let id: i32 = sqlx::query_scalar(
        "INSERT INTO public.tenants (name, schema_name) VALUES ($1, $2) RETURNING id",
    )
    .bind(name)
    .bind(schema.as_str())
    .fetch_one(&mut *tx)
    .await
    .map_err(|e| {
        if is_unique_violation(&e) {
            StoreError::Conflict(format!("tenant {:?} already exists", schema.as_str()))
        } else {
            e.into()
        }
    })?;
    insert_domain(&mut tx, id, &domain, true).await?;
    migrate::migrate_tenant(&mut tx, schema).await?;
    tx.commit().await?;
    Ok(Tenant {
        id,
        name: name.to_owned(),
        schema: schema.clone(),
    })
}

/// Routes one more host to an existing tenant.
pub async fn add_domain(pool: &PgPool, tenant: &Tenant, domain: &str) -> Result<(), StoreError> {
    let domain = normalize_domain(domain)?;
    let mut tx = pool.begin().await?;
    insert_domain(&mut tx, tenant.id, &domain, false).await?;
    tx.commit().await?;
    Ok(())
}

async fn insert_domain(
    conn: &mut sqlx::PgConnection,
    tenant_id: i32,
    domain: &str,
    primary: bool,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO public.tenant_domains (domain, tenant_id, is_primary) VALUES ($1, $2, $3)",
    )
    .bind(domain)
    .bind(tenant_id)
    .bind(primary)
    .execute(conn)
    .await
    .map_err(|e| {
        if is_unique_violation(&e) {
            StoreError::Conflict(format!("domain {domain:?} is already in use"))
        } else {
            e.into()
        }
    })?;
    Ok(())
}

/// The tenant a (normalised) host routes to.
pub async fn find_by_domain(pool: &PgPool, domain: &str) -> Result<Option<Tenant>, StoreError> {
    sqlx::query_as::<_, TenantRow>(
        "SELECT t.id, t.name, t.schema_name FROM public.tenants t
         JOIN public.tenant_domains d ON d.tenant_id = t.id WHERE d.domain = $1",
    )
    .bind(domain)
    .fetch_optional(pool)
    .await?
    .map(TenantRow::into_tenant)
    .transpose()
}

/// The tenant whose schema is `schema`, or `NotFound`.
pub async fn get_by_schema(pool: &PgPool, schema: &SchemaName) -> Result<Tenant, StoreError> {
    sqlx::query_as::<_, TenantRow>(
        "SELECT id, name, schema_name FROM public.tenants WHERE schema_name = $1",
    )
    .bind(schema.as_str())
    .fetch_optional(pool)
    .await?
    .ok_or_else(|| StoreError::NotFound(format!("unknown tenant {:?}", schema.as_str())))?
    .into_tenant()
}

/// Every tenant, for `migrate`.
pub async fn list(pool: &PgPool) -> Result<Vec<Tenant>, StoreError> {
    sqlx::query_as::<_, TenantRow>("SELECT id, name, schema_name FROM public.tenants ORDER BY id")
        .fetch_all(pool)
        .await?
        .into_iter()
        .map(TenantRow::into_tenant)
        .collect()
}
