"""robomem on ROS 2: a robot as a Gymnasium env, and any robomem env as a robot.

``robomem/ROS2Robot-v0`` reads a robot's topics; ``robomem ros serve`` serves an env on them.

Messages and frames (``convert``), time synchronisation (``sync``), topic settings (``config``),
the env (``env``), the server (``serve``) and the embodiment (``embodiment``,
``data/embodiment.yaml``). ``rclpy`` and the message packages are the ``ros`` extra and are
imported only inside the functions that need them.
"""
