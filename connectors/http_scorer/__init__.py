"""Generic HTTP scorer: a lender's in-house risk model or anti-fraud service behind signed JSON.

The lender's service is the vendor here. The request and response shapes are mapped by
configuration, so a service need not be rewritten to plug in; requests are HMAC-SHA256 signed
(``X-LendHub-Signature: v1=…``) so the service can trust who is asking and that the features
were not altered on the way.
"""
