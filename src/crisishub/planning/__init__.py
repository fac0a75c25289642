"""Planning tools for a crisis program: demand, staffing, placement, simulation.

Plain functions over NumPy arrays; nothing here imports Django.
"""
