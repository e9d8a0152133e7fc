//! `dataslo agent --config F`: `run` at the edge (`service::Agent`), with
//! `[agent] token_sha256` its HTTP endpoints too (`server::AgentHttp`),
//! until SIGINT or SIGTERM.

use super::Failure;
use super::setup::SetupArgs;
use crate::server::AgentHttp;
use crate::service::{Agent, agent_runtime};

pub fn run(setup: &SetupArgs) -> Result<(), Failure> {
    let mut agent = Agent::open(setup.config(&[])?)?;
    let rt = agent_runtime()?;
    rt.block_on(async {
        let mut terminate =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                .map_err(|e| Failure::Input(format!("cannot watch SIGTERM: {e}")))?;
        agent.start().await?;
        let pages = crate::dashboard::router();
        let http = AgentHttp::start(agent.config(), agent.service(), pages)
            .await
            .map_err(|e| Failure::Input(e.to_string()))?;
        let stop = async {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = terminate.recv() => {}
            }
        };
        let ran = agent.run(stop).await;
        if let Some(http) = http {
            http.stop().await;
        }
        ran?;
        agent.stop().await?;
        tracing::info!("dataslo agent stopped cleanly");
        Ok(())
    })
}
