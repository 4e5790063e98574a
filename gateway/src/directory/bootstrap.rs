//! The first admin of a fresh install, created from the command line (`switchboard directory
//! create-admin`) into the same tables, with the same event, as `CreateAgent`.

use switchboard_platform::{
    config::DatabaseConfig,
    db,
    events::{NewEvent, enqueue},
};
use switchboard_proto::{
    events::v1::AgentChanged,
    gateway::v1::{Agent, AgentRole},
};

use super::{SOURCE, store, validate};
use switchboard_platform::error::FieldViolations;

/// What happened to the admin asked for.
#[derive(Debug, PartialEq, Eq)]
pub enum Bootstrapped {
    Created(Agent),
    /// The login exists already (nothing was changed).
    Exists,
}

/// Creates an active admin `login` (migrating the schema first).
pub async fn create_admin(
    database: &DatabaseConfig,
    schema: &str,
    login: &str,
    display_name: &str,
    email: &str,
) -> anyhow::Result<Bootstrapped> {
    let pool = db::connect(database, schema).await?;
    db::migrate(&pool, schema, Some(&crate::MIGRATOR)).await?;
    let login = validate::normalize_login(login).ok_or_else(|| {
        anyhow::anyhow!("--login must be 1 to 64 characters of a-z, 0-9, '.', '_', '-', '@'")
    })?;
    let agent = Agent {
        login: login.clone(),
        display_name: display_name.to_owned(),
        email: email.to_owned(),
        role: AgentRole::Admin as i32,
        ..Default::default()
    };
    let mut violations = FieldViolations::new();
    validate::check_agent(&agent, validate::AGENT_FIELDS, &mut violations);
    if !violations.is_empty() {
        anyhow::bail!("{}", violations.into_status().message());
    }
    let mut tx = db::begin(&pool).await?;
    if store::login_ever_used(&mut tx, &login).await? {
        return Ok(Bootstrapped::Exists);
    }
    store::insert_agent(&mut tx, &agent, &[]).await?;
    let row = store::get_agent(&mut tx, &login)
        .await?
        .ok_or_else(|| anyhow::anyhow!("the new admin vanished"))?;
    let payload = AgentChanged {
        agent: Some(row.to_proto()),
        created: true,
    };
    let event = NewEvent::new(&payload, &login, row.version);
    enqueue(&mut tx, SOURCE, event).await?;
    db::commit(tx).await?;
    Ok(Bootstrapped::Created(row.to_proto()))
}
