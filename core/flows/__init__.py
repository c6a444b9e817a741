"""The credit process engine (审批流程): approval flows as versioned data, run stage by stage.

``definition`` is the document a credit manager writes and its checks; ``source`` reads it from
YAML or JSON with line numbers; ``context`` the values its conditions see; ``versions`` saves and
publishes it; ``engine`` starts and moves applications through it; ``deciders`` says who is asked
and who may decide (assignment, authority, maker-checker, delegation); ``decisions`` takes a
person's decision; ``tasks`` the inbox; ``sla`` the timers; ``dryrun`` and ``diagram`` are for
the people who configure flows.
"""
