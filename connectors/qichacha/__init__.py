"""企查查 (Qichacha / QCC) open API: litigation (司法涉诉) and business registry (工商) in one plugin.

Two connector classes, :class:`~connectors.qichacha.connector.QichachaLitigation` and
:class:`~connectors.qichacha.connector.QichachaBusinessRegistry`, share one config, client (with
the ``Token`` = UPPER(MD5(key + Timespan + SecretKey)) signature) and Status mapping. The simulator
in :mod:`connectors.qichacha.simulator` plays the vendor offline.
"""
