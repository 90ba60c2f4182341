"""Config loading: precedence, strict keys, types, ranges, secrets."""
from pathlib import Path

import pytest

from nanobook_rebalancer.config import (
    CONFIG_ENV, HOME_ENV, Secret, default_config_path, load_config,
)
from nanobook_rebalancer.errors import ConfigError


def write(p: Path, text: str, mode: int = 0o600) -> Path:
    p.write_text(text)
    p.chmod(mode)
    return p


def test_embedded_default_uses_state_dir(tmp_path):
    cfg = load_config(env={"HOME": str(tmp_path)})
    assert cfg.source is None
    assert cfg.broker.kind == "paper"
    assert cfg.audit_log_path == tmp_path / ".local/state/nanobook/rebalance/audit.jsonl"
    cfg2 = load_config(env={"HOME": str(tmp_path), HOME_ENV: str(tmp_path / "h")})
    assert cfg2.kill_switch_path == tmp_path / "h" / "KILL"


def test_precedence_cli_then_env_then_default(tmp_path):
    a = write(tmp_path / "a.toml", '[broker]\nkind = "paper"\n[files]\naudit_log = "A.jsonl"\n')
    b = write(tmp_path / "b.toml", '[files]\naudit_log = "B.jsonl"\n')
    home = tmp_path / "home"
    d = default_config_path({"HOME": str(home)})
    d.parent.mkdir(parents=True)
    write(d, '[files]\naudit_log = "D.jsonl"\n')
    env = {"HOME": str(home), CONFIG_ENV: str(b)}
    assert load_config(a, env=env).audit_log_path.name == "A.jsonl"
    assert load_config(None, env=env).audit_log_path.name == "B.jsonl"
    assert load_config(None, env={"HOME": str(home)}).audit_log_path.name == "D.jsonl"
    # relative paths resolve against the config file's directory
    assert load_config(a, env=env).audit_log_path == tmp_path / "A.jsonl"


@pytest.mark.parametrize("text, needle", [
    ("[brokr]\nkind='paper'\n", "unknown config table [brokr]"),
    ("[broker]\nkind='paper'\nhost='x'\n", "unknown config key broker.host"),
    ("[broker]\nkind='kraken'\n", "broker.kind must be one of"),
    ("[execution]\nmax_orders = 0\n", "execution.max_orders must be > 0, got 0"),
    ("[execution]\nmax_orders = 1.5\n", "execution.max_orders must be an integer"),
    ("[execution]\nlimit_offset_bps = 'five'\n", "execution.limit_offset_bps must be a number"),
    ("[execution]\norder_timeout_secs = nan\n", "execution.order_timeout_secs must be finite"),
    ("[execution]\norder_type = 'stop'\n", "execution.order_type must be"),
    ("[ibkr]\nport = 70000\n", "ibkr.port must be in 1..65535, got 70000"),
    ("[plan]\nrounding = 'up'\n", "plan.rounding must be"),
    ("[plan]\nlot_sizes = {AAPL = 0}\n", "plan.lot_sizes.AAPL must be a positive integer"),
    ("[plan]\nmax_gross_weight = -1\n", "plan.max_gross_weight must be in (0, 10]"),
    ("[cost]\nslippage_bps = -1\n", "cost.slippage_bps must be >= 0"),
    ("[account]\ntype = 'ira'\n", "account.type must be"),
    ("[metrics]\nport = -1\n", "metrics.port"),
    ("[risk]\nmax_leverage = 0.5\n", "[risk]: invalid RiskConfig: max_leverage"),
    ("[risk]\nmax_levrage = 2\n", "[risk]: invalid RiskConfig: unknown key 'max_levrage'"),
    ("[risk]\nmax_position_pct = 'x'\n", "[risk]"),
    ("[risk]\nmin_trade_usd = 50\n[plan]\nmin_order_value_usd = 10\n", "disagree"),
    ("broker = 3\n", "[broker] must be a table"),
    ("[broker\n", "invalid TOML"),
    ("[broker]\nkind = 'binance'\n", "needs an API key and secret"),
])
def test_bad_config_is_rejected_with_a_message_naming_the_key(tmp_path, text, needle):
    p = write(tmp_path / "c.toml", text)
    with pytest.raises(ConfigError) as ei:
        load_config(p, env={"HOME": str(tmp_path)})
    assert needle in str(ei.value)


def test_missing_explicit_files_are_errors(tmp_path):
    with pytest.raises(ConfigError, match="--config: file not found"):
        load_config(tmp_path / "nope.toml", env={})
    with pytest.raises(ConfigError, match=CONFIG_ENV):
        load_config(None, env={CONFIG_ENV: str(tmp_path / "nope.toml")})


def test_risk_min_trade_moves_into_plan(tmp_path):
    p = write(tmp_path / "c.toml", "[risk]\nmin_trade_usd = 250\n")
    assert load_config(p, env={}).plan.min_order_value_usd == 250.0


def test_secrets_from_env_win_and_are_never_shown(tmp_path):
    p = write(tmp_path / "c.toml",
              "[broker]\nkind='binance'\n[binance]\napi_key='filekey'\napi_secret='filesecret'\n")
    cfg = load_config(p, env={"NANOBOOK_BINANCE_API_KEY": "envkey"})
    assert cfg.binance.api_key.reveal() == "envkey"
    assert cfg.binance.api_secret.reveal() == "filesecret"
    text = repr(cfg) + str(cfg.redacted())
    assert "envkey" not in text and "filesecret" not in text
    assert cfg.redacted()["binance"]["api_key"] == "<set>"
    assert repr(Secret("x")) == "Secret('***')"


def test_config_with_secrets_must_not_be_group_readable(tmp_path):
    p = write(tmp_path / "c.toml", "[binance]\napi_key='k'\napi_secret='s'\n", mode=0o644)
    with pytest.raises(ConfigError, match="chmod 600"):
        load_config(p, env={})
