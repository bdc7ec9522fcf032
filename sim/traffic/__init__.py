"""Traffic: from a scenario and a seeded generator to the flights that will fly.

Flight plans, generated sorties and their routes, the planner that routes round received
zones, and the work areas parties declare. Pure (no SimPy); imports only ``sim.model``.
"""
