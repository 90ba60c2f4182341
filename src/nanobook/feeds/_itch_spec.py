"""NASDAQ TotalView-ITCH 5.0 message layouts (one table drives parser and dtypes).

Every message starts with ``message_type`` (1 byte), ``stock_locate`` (u16),
``tracking_number`` (u16) and ``timestamp`` (u48, nanoseconds since midnight);
all integers are big-endian on the wire.  Each entry lists the fields after
that common header as ``(name, wire_bytes, kind)`` with kind ``"u"`` (unsigned
big-endian integer, widened to u2/u4/u8 in the arrays) or ``"s"`` (ASCII
bytes, kept as ``S<n>`` with its trailing spaces).  Prices are raw ITCH
integers: 4-byte prices have 4 implied decimals (``1234500`` = $123.45), the
8-byte MWCB levels have 8.  Field names follow the specification, in the
snake case used by common decoders.
"""
from __future__ import annotations

HEADER = [("stock_locate", 2, "u"), ("tracking_number", 2, "u"), ("timestamp", 6, "u")]

MESSAGES: dict[str, tuple[str, list[tuple[str, int, str]]]] = {
    "S": ("system_event", [("event_code", 1, "s")]),
    "R": ("stock_directory", [
        ("stock", 8, "s"), ("market_category", 1, "s"), ("financial_status_indicator", 1, "s"),
        ("round_lot_size", 4, "u"), ("round_lots_only", 1, "s"), ("issue_classification", 1, "s"),
        ("issue_sub_type", 2, "s"), ("authenticity", 1, "s"),
        ("short_sale_threshold_indicator", 1, "s"), ("ipo_flag", 1, "s"), ("luld_ref", 1, "s"),
        ("etp_flag", 1, "s"), ("etp_leverage_factor", 4, "u"), ("inverse_indicator", 1, "s"),
    ]),
    "H": ("stock_trading_action", [
        ("stock", 8, "s"), ("trading_state", 1, "s"), ("reserved", 1, "s"), ("reason", 4, "s"),
    ]),
    "Y": ("reg_sho_restriction", [("stock", 8, "s"), ("reg_sho_action", 1, "s")]),
    "L": ("market_participant_position", [
        ("mpid", 4, "s"), ("stock", 8, "s"), ("primary_market_maker", 1, "s"),
        ("market_maker_mode", 1, "s"), ("market_participant_state", 1, "s"),
    ]),
    "V": ("mwcb_decline_level", [("level1", 8, "u"), ("level2", 8, "u"), ("level3", 8, "u")]),
    "W": ("mwcb_status", [("breached_level", 1, "s")]),
    "K": ("ipo_quoting_period_update", [
        ("stock", 8, "s"), ("ipo_quotation_release_time", 4, "u"),
        ("ipo_quotation_release_qualifier", 1, "s"), ("ipo_price", 4, "u"),
    ]),
    "J": ("luld_auction_collar", [
        ("stock", 8, "s"), ("auction_collar_reference_price", 4, "u"),
        ("upper_auction_collar_price", 4, "u"), ("lower_auction_collar_price", 4, "u"),
        ("auction_collar_extension", 4, "u"),
    ]),
    "h": ("operational_halt", [
        ("stock", 8, "s"), ("market_code", 1, "s"), ("operational_halt_action", 1, "s"),
    ]),
    "A": ("add_order", [
        ("order_reference_number", 8, "u"), ("buy_sell_indicator", 1, "s"), ("shares", 4, "u"),
        ("stock", 8, "s"), ("price", 4, "u"),
    ]),
    "F": ("add_order_mpid", [
        ("order_reference_number", 8, "u"), ("buy_sell_indicator", 1, "s"), ("shares", 4, "u"),
        ("stock", 8, "s"), ("price", 4, "u"), ("attribution", 4, "s"),
    ]),
    "E": ("order_executed", [
        ("order_reference_number", 8, "u"), ("executed_shares", 4, "u"), ("match_number", 8, "u"),
    ]),
    "C": ("order_executed_with_price", [
        ("order_reference_number", 8, "u"), ("executed_shares", 4, "u"), ("match_number", 8, "u"),
        ("printable", 1, "s"), ("execution_price", 4, "u"),
    ]),
    "X": ("order_cancel", [("order_reference_number", 8, "u"), ("cancelled_shares", 4, "u")]),
    "D": ("order_delete", [("order_reference_number", 8, "u")]),
    "U": ("order_replace", [
        ("order_reference_number", 8, "u"), ("new_order_reference_number", 8, "u"),
        ("shares", 4, "u"), ("price", 4, "u"),
    ]),
    "P": ("trade", [
        ("order_reference_number", 8, "u"), ("buy_sell_indicator", 1, "s"), ("shares", 4, "u"),
        ("stock", 8, "s"), ("price", 4, "u"), ("match_number", 8, "u"),
    ]),
    "Q": ("cross_trade", [
        ("shares", 8, "u"), ("stock", 8, "s"), ("cross_price", 4, "u"), ("match_number", 8, "u"),
        ("cross_type", 1, "s"),
    ]),
    "B": ("broken_trade", [("match_number", 8, "u")]),
    "I": ("noii", [
        ("paired_shares", 8, "u"), ("imbalance_shares", 8, "u"), ("imbalance_direction", 1, "s"),
        ("stock", 8, "s"), ("far_price", 4, "u"), ("near_price", 4, "u"),
        ("current_reference_price", 4, "u"), ("cross_type", 1, "s"),
        ("price_variation_indicator", 1, "s"),
    ]),
    "N": ("retail_price_improvement", [("stock", 8, "s"), ("interest_flag", 1, "s")]),
    "O": ("dlcr_price_discovery", [
        ("stock", 8, "s"), ("open_eligibility_status", 1, "s"), ("minimum_allowable_price", 4, "u"),
        ("maximum_allowable_price", 4, "u"), ("near_execution_price", 4, "u"),
        ("near_execution_time", 8, "u"), ("lower_price_range_collar", 4, "u"),
        ("upper_price_range_collar", 4, "u"),
    ]),
}


def wire_length(msg_type: str) -> int:
    """Length in bytes of a message of this type, type byte included."""
    return 1 + sum(n for _, n, _ in HEADER) + sum(n for _, n, _ in MESSAGES[msg_type][1])
