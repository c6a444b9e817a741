"""The credit process engine (审批流程): approval flows as versioned data, run stage by stage.

``definition`` is the document a credit manager writes and its checks (``parts`` checks its
pieces, ``model`` is the compiled form); ``source`` reads it from YAML or JSON with line numbers;
``context`` holds the values its conditions see and ``evaluate`` judges them; ``versions`` saves
and publishes it; ``engine`` starts and moves applications through it; ``deciders`` says who is
asked and who may decide (assignment, authority, maker-checker, delegation); ``decisions`` takes a
person's decision and ``outcomes`` says when a stage is decided; ``tasks`` is the inbox; ``sla``
the timers; ``authority`` the limits, delegations and staff links; ``signals`` the risk signals;
``dryrun`` and ``diagram`` are for the people who configure flows.
"""
