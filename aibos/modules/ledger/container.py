from dependency_injector import containers, providers
from sqlalchemy.ext.asyncio import AsyncEngine

from aibos.modules.ledger.service.accounts import AccountService
from aibos.modules.ledger.service.actors import ActorGuard
from aibos.modules.ledger.service.chart_io import ChartFiles
from aibos.modules.ledger.service.entries import EntryService
from aibos.modules.ledger.service.periods import PeriodService
from aibos.modules.ledger.service.rates import RateService
from aibos.modules.ledger.service.reports import ReportService
from aibos.modules.ledger.service.year_end import YearEnd
from aibos.platform.db import DriverConnections
from aibos.platform.settings import Settings


class LedgerContainer(containers.DeclarativeContainer):
    settings = providers.Dependency(instance_of=Settings)
    engine = providers.Dependency(instance_of=AsyncEngine)
    driver = providers.Dependency(instance_of=DriverConnections)

    accounts = providers.Singleton(AccountService, engine=engine)
    periods = providers.Singleton(PeriodService, engine=engine)
    chart_files = providers.Singleton(ChartFiles, engine=engine, accounts_service=accounts)
    rates = providers.Singleton(RateService, engine=engine, settings=settings)
    entries = providers.Singleton(EntryService, engine=engine, driver=driver, settings=settings)
    reports = providers.Singleton(ReportService, engine=engine, settings=settings)
    year_end = providers.Singleton(YearEnd, engine=engine, entries=entries, settings=settings)
    actors = providers.Singleton(ActorGuard)
