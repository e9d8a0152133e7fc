//! `GET /v1/agents`: every site of the caller's tenant, as its last
//! heartbeat said (filed into the ledger by central; see
//! `service::central_sync`).

use super::error::ApiError;
use super::extract::Authed;
use super::json::Json;
use crate::ledger::AgentReport;

pub(super) async fn list_agents(
    Authed(tenant): Authed,
) -> Result<Json<Vec<AgentReport>>, ApiError> {
    let ledger = tenant.scheduler.ledger().clone();
    let reports = tokio::task::spawn_blocking(move || ledger.agent_reports())
        .await
        .map_err(|e| ApiError::from(crate::ledger::LedgerError::Storage(e.to_string())))??;
    Ok(Json(reports))
}
