"""金蝶云星空 (Kingdee K3 Cloud) WebAPI: accounting vouchers (GL_VOUCHER) to the general ledger.

Split as every connector folder is: ``client`` (services, session, codes), ``mapping`` (canonical
voucher ↔ GL_VOUCHER JSON), ``connector`` (the FinanceLedger port), ``simulator``, ``plugin``.
"""
