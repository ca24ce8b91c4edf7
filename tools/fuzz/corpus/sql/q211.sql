SELECT count(*) FROM user_logs WHERE msno = 'Smp0hygzXY/QWvk3r0euVcD5n3LHi0rWwYkmYoRlUmc=' AND msno <> 'Smp0hygzXY/QWvk3r0euVcD5n3LHi0rWwYkmYoRlUmc=';
