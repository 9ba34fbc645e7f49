"""The ledger's public door: its permissions, for roles and other modules."""

READ = "ledger:read"
KEEP_ACCOUNTS = "ledger:accounts:write"
DRAFT = "ledger:entries:write"
POST = "ledger:entries:post"
APPROVE = "ledger:entries:approve"
MANAGE_PERIODS = "ledger:periods:manage"
KEEP_RATES = "ledger:rates:write"
REOPEN_YEARS = "ledger:years:reopen"  # no role has it: only an administrator (`*`)
