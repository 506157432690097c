"""The fleet's figures as Prometheus metrics, read from the fleet at scrape time.

Names follow KubeVirt's migration metrics where they exist
(``kubevirt_vmi_migration_data_remaining_bytes`` becomes
``migtui_migration_data_remaining_bytes``); pass count, expected downtime,
downtime limit, throttle, the prediction and the link state are migtui's own.
Gauges cost nothing between scrapes; only the outcome counters follow the
samples, since an outcome seen by no scrape must still be counted.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from migtui.alerts.rule import Condition
from migtui.model.convergence import Verdict
from migtui.model.link import LinkState
from migtui.model.status import ACTIVE_STATES
from migtui.qmp.fleet_view import FleetView
from migtui.qmp.updates import AlertRaised, SampleTaken, Update, VMRemoved

LABELS = ["vm", "host", "group"]
OUTCOMES = {"completed": "succeeded", "failed": "failed", "cancelled": "cancelled"}


class FleetCollector(Collector):
    def __init__(self, fleet: FleetView) -> None:
        self.fleet = fleet
        self.outcomes: Counter[tuple[str, str]] = Counter()
        self.alerts: Counter[tuple[str, str]] = Counter()
        """(VM, condition) -> alerts fired (migtui.alerts)."""
        self._last_status: dict[str, str] = {}

    def __call__(self, update: Update) -> None:
        """A fleet subscriber: count migrations ending (on the source; a destination ends the same
        migration) and alerts fired."""
        if isinstance(update, AlertRaised):
            self.alerts[(update.vm, update.when)] += 1
            return
        if isinstance(update, VMRemoved):
            self._last_status.pop(update.vm, None)  # found again later, it starts afresh
        if not isinstance(update, SampleTaken):
            return
        # A snapshot job's save or load reads as a migration in query-migrate: it is none.
        status = "none" if update.sample.snapshot else update.sample.status
        before = self._last_status.get(update.vm)
        self._last_status[update.vm] = status
        state = self.fleet.states.get(update.vm)
        if before in ACTIVE_STATES and status in OUTCOMES and not (state is not None and state.incoming):
            self.outcomes[(update.vm, OUTCOMES[status])] += 1

    def _labels(self, name: str) -> list[str]:
        return [name, self.fleet.where(name), self.fleet.states[name].group or ""]

    def collect(self) -> Iterator[Metric]:
        def gauge(name: str, doc: str, extra: list[str] | None = None) -> GaugeMetricFamily:
            return GaugeMetricFamily(f"migtui_{name}", doc, labels=LABELS + (extra or []))

        remaining = gauge("migration_data_remaining_bytes", "Bytes of guest RAM still to send")
        processed = gauge("migration_data_processed_bytes", "Bytes of guest RAM sent so far in this migration")
        total = gauge("migration_data_total_bytes", "Bytes of guest RAM to migrate")
        dirty = gauge("migration_dirty_memory_rate_bytes", "Bytes per second the guest dirties")
        rate = gauge("migration_memory_transfer_rate_bytes", "Bytes per second QEMU sends")
        passes = gauge("migration_passes", "Passes over guest memory (dirty syncs) so far")
        expected = gauge("migration_expected_downtime_seconds", "Downtime QEMU expects for the switch-over")
        limit = gauge("migration_downtime_limit_seconds", "The downtime-limit parameter")
        downtime = gauge("migration_downtime_seconds", "Downtime the last completed migration achieved")
        throttle = gauge("migration_cpu_throttle_ratio", "Share of vCPU time auto-converge takes away (0-1)")
        active = gauge("migration_active", "1 while this VM migrates out")
        eta = gauge("migration_prediction_eta_seconds", "Seconds until the migration converges, as predicted")
        verdict = gauge("migration_prediction_verdict", "1 for the prediction's current verdict", ["verdict"])
        link = gauge("vm_link_up", "1 while migtui holds the VM's QMP connection")
        for name, state in self.fleet.states.items():
            labels = self._labels(name)
            link.add_metric(labels, 1.0 if state.link is LinkState.CONNECTED else 0.0)
            if "downtime-limit" in state.parameters:
                limit.add_metric(labels, float(state.parameters["downtime-limit"]) / 1000)
            sample = state.latest
            if sample is None:
                continue
            info, ram = sample.info, sample.info.ram
            active.add_metric(labels, 1.0 if state.migrating_out else 0.0)
            if ram is not None:
                remaining.add_metric(labels, float(ram.remaining))
                processed.add_metric(labels, float(ram.transferred))
                total.add_metric(labels, float(ram.total))
                dirty.add_metric(labels, sample.dirty_rate)
                rate.add_metric(labels, sample.throughput)
                passes.add_metric(labels, float(ram.dirty_sync_count))
            if info.expected_downtime is not None:
                expected.add_metric(labels, info.expected_downtime / 1000)
            if info.downtime is not None:
                downtime.add_metric(labels, info.downtime / 1000)
            throttle.add_metric(labels, (info.cpu_throttle_percentage or 0) / 100)
            prediction = state.prediction()
            if prediction.eta_seconds is not None:
                eta.add_metric(labels, prediction.eta_seconds)
            for value in Verdict:
                verdict.add_metric([*labels, value.value], 1.0 if prediction.verdict == value else 0.0)
        yield from (remaining, processed, total, dirty, rate, passes, expected, limit, downtime, throttle,
                    active, eta, verdict, link)
        for outcome, doc in (("succeeded", "Migrations that completed"), ("failed", "Migrations that failed"),
                             ("cancelled", "Migrations that were cancelled")):
            counter = CounterMetricFamily(f"migtui_migration_{outcome}", doc, labels=LABELS)
            for name in self.fleet.states:
                counter.add_metric(self._labels(name), float(self.outcomes[(name, outcome)]))
            yield counter
        # Every condition for every VM, zeros included: a series that appears at its first alert hides
        # that alert from increase() and rate().
        alerts = CounterMetricFamily("migtui_alerts", "Alerts of the inventory's [[alert]] rules fired",
                                     labels=[*LABELS, "when"])
        for name in self.fleet.states:
            for when in Condition:
                alerts.add_metric([*self._labels(name), when.value], float(self.alerts[(name, when.value)]))
        yield alerts
