"""天眼查 (Tianyancha) open API: litigation (司法涉诉) and business registry (工商) in one plugin.

Two connector classes, :class:`~connectors.tianyancha.connector.TianyanchaLitigation` and
:class:`~connectors.tianyancha.connector.TianyanchaBusinessRegistry`, share one config, client and
error mapping. The simulator in :mod:`connectors.tianyancha.simulator` plays the vendor offline.
"""
