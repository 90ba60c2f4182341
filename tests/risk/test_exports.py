import nanobook_risk


def test_public_surface():
    assert sorted(nanobook_risk.__all__) == [
        "Decision", "ReasonCode", "RiskConfig", "RiskConfigError", "RiskEngine", "RiskError", "RiskReport", "Status",
    ]
    for name in nanobook_risk.__all__:
        assert getattr(nanobook_risk, name).__module__.startswith("nanobook_risk")
    assert issubclass(nanobook_risk.RiskConfigError, ValueError)
    assert issubclass(nanobook_risk.RiskConfigError, nanobook_risk.RiskError)
