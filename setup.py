"""Install the pose3d_ros ament_python package."""

from glob import glob

from setuptools import find_packages, setup

PACKAGE = 'pose3d_ros'

setup(
    name=PACKAGE,
    version='0.1.0',
    packages=find_packages(exclude=['test', 'test.*', 'bench', 'bench.*']),
    package_data={f'{PACKAGE}.evaluation': ['people_labels.json'],
                  f'{PACKAGE}.interfaces': ['definitions/*/msg/*.msg']},
    data_files=[
        ('share/ament_index/resource_index/packages', [f'resource/{PACKAGE}']),
        (f'share/{PACKAGE}', ['package.xml']),
        (f'share/{PACKAGE}/launch', glob('launch/*.launch.py')),
        (f'share/{PACKAGE}/config', glob('config/*.yaml') + glob('config/*.rviz')),
    ],
    install_requires=['setuptools'],
    zip_safe=True,
    maintainer='pose3d_ros maintainers',
    maintainer_email='pose3d-ros@example.com',
    description='Multi-person metric 3D human pose from one camera for ROS 2.',
    license='Apache-2.0',
    python_requires='>=3.10',
    entry_points={
        'console_scripts': [
            'pose3d-models = pose3d_ros.cli.models:main',
            'pose3d-estimate = pose3d_ros.cli.estimate:main',
            'pose3d_node = pose3d_ros.node.start:main',
            'pose3d-demo = pose3d_ros.cli.demo:main',
            'pose3d-lifter = pose3d_ros.cli.lifter:main',
            'pose3d-interfaces = pose3d_ros.cli.interfaces:main',
        ],
    },
)
