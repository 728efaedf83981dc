"""Large, valid scenarios for benchmarks: a chain of realistic 10-step funnel blocks."""

from __future__ import annotations

from app.engine.model import Edge, Node, Product, Scenario

BLOCK = 10


def generate_scenario(nodes: int) -> Scenario:
    """About `nodes` steps: each block enters, mails, waits for a purchase, re-targets by SMS,
    and hands its losers to the next block, so every exit is connected and every step can
    reach an exit (the validator's full work, with no early outs)."""
    scenario = Scenario(id=f"bench-{nodes}", name=f"Benchmark {nodes}")
    scenario.products = [Product("main", "Main product", "main", 4990)]
    blocks = max(1, nodes // BLOCK)
    for b in range(blocks):
        p = f"b{b}_"
        x = b * 2600.0

        def add(
            suffix: str, type_: str, col: int, row: int, p: str = p, x: float = x, **params: object
        ) -> str:
            node_id = p + suffix
            scenario.nodes[node_id] = Node(
                node_id, type_, suffix, dict(params), (x + col * 260, row * 140.0)
            )
            return node_id

        entry = add(
            "entry", "entry.segment", 0, 0, condition=f"age >= {18 + b % 30} and consent_email"
        )
        window = add(
            "window",
            "wait",
            1,
            0,
            mode="window",
            window_days=["mon", "tue", "wed"],
            window_start="10:00",
            window_end="20:00",
        )
        mail = add(
            "mail",
            "message",
            2,
            0,
            channel="email",
            subject="Hi {{ contact.first_name }}",
            body="Your offer is waiting, {{ contact.first_name }}",
        )
        wait = add("wait_buy", "wait_event", 3, 0, event="purchase", timeout="P2D")
        goal = add("goal", "goal", 4, 0, stage="Purchase", revenue=4990)
        won = add("won", "exit", 5, 0, outcome="converted")
        cond = add(
            "phone", "condition", 4, 1, condition='has_phone and consent_sms and city != "Omsk"'
        )
        sms = add(
            "sms",
            "offer",
            5,
            1,
            channel="sms",
            product="main",
            discount=10,
            body="{{ contact.first_name }}, -{{ offer.discount }}%: {{ promo_code }}",
        )
        pause = add("pause", "wait", 6, 1, duration="P1D")
        lost = add("lost", "exit", 6, 2, outcome="lost")
        next_entry = f"b{b + 1}_window" if b + 1 < blocks else lost
        for source, exit_name, target in (
            (entry, "next", window),
            (window, "next", mail),
            (mail, "sent", wait),
            (mail, "failed", cond),
            (wait, "happened", goal),
            (wait, "timeout", cond),
            (goal, "next", won),
            (cond, "yes", sms),
            (cond, "no", lost),
            (sms, "sent", pause),
            (sms, "failed", lost),
            (pause, "next", next_entry),
        ):
            scenario.edges.append(Edge(source, exit_name, target))
    return scenario
